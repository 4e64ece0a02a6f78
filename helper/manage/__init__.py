"""The management verbs people run: the registry verbs, explain, doctor, configure-docker, sync."""
