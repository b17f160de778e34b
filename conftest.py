def pytest_configure(config):
    config.addinivalue_line("markers", "serve_config(**options): options for the webhook fixture")
    config.option.reportchars = (config.option.reportchars or "") + "s"  # say why a test skips
