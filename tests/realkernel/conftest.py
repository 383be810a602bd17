import os

# The guest tests only make sense inside the QEMU guest the harness boots.
collect_ignore = [] if os.environ.get("LPTUI_GUEST") else ["guest"]
