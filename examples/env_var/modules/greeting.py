"""A reloadable module: change the text below while main.py runs."""


def greet(name: str) -> str:
    return f"Hello, {name}!"
