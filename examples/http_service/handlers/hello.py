"""GET /hello?name=...: a stateless handler; demo.py rewrites it while requests keep coming."""

GREETING = "Hello"


def get(query):
    name = query.get("name", ["world"])[0]
    return f"{GREETING}, {name}! (hello v1)\n"
