@takes(list_of(int))
def pure_function(*args):
    return sum(args)
# EOF
