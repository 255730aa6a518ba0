__reloadable__ = False

# Loaded once: a change to this file is logged and ignored until the process restarts.
started_with = "settings as loaded at start-up"
# EOF
