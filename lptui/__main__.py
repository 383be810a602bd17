from lptui.cli.main import entry

entry()
