"""The API's routers, one module per area of docs/api.md."""
