"""Names of the Azure App Configuration connection type (registration path: constants only)."""

CONNECTION_TYPE = "azure-app-configuration"
MICROSOFT_ENTRA = "Microsoft Entra ID"
