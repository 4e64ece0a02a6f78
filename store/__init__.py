"""Where credentials live: the Registries table, Docker config files and secret stores."""
