@takes(int)
def accumulate(x):
    global sum
    sum += x

def pmnc_init(old_module, new_module, new_module_filename):
    if old_module:
        new_module.sum = old_module.sum # state migration
    else:
        new_module.sum = 0 # initial value enters the module scope
# EOF
