"""The built-in auth methods, in registration order (what `types` lists)."""

BUILTIN_METHODS = ["oauth", "client-secret", "certificate", "workload-identity", "managed-identity", "access-key"]
