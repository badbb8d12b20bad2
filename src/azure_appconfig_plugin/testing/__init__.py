"""The Azure part of the test kit, on top of ``app_connections.testing``: the placeholder Azure
identities and instance settings, recording against real Azure, and the ``azure_*`` fixtures.
See docs/test-kit.md."""

RECORD_MODE_ENV = "AZURE_APPCONFIG_RECORD_MODE"
"""Record mode of the Azure cassettes (``--azure-record-mode``); the kit's own is ``APP_CONNECTIONS_RECORD_MODE``."""
