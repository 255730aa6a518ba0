"""A reloadable module: demo.py rewrites this file while it runs, then puts it back."""


def greet(name):
    return f"Hello, {name}!"
