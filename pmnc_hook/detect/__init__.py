"""Change detection: watcher or poller events -> settle -> the registry judges and marks stale."""
