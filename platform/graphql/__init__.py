"""The GraphQL API (strawberry): thin resolvers over the domain packages.

Nothing imports this package but the app wiring and the CLI (schema export).
"""
