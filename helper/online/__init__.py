"""Online checks of stored credentials against a registry: challenges, HTTP transport."""
