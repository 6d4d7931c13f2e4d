"""The HTTP edge (litestar): sign-in routes, health checks, the GraphQL endpoint's context.

Translates requests into service calls and ``SendtrailError`` into status codes; holds no
business rules.
"""
