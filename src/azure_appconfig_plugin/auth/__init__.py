"""Microsoft identity platform handlers. Importing this package imports msal lazily:
only the submodules do, and nothing on the registration path imports them."""
