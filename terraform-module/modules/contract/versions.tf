terraform {
  # Cross-variable references in validation blocks need 1.9. This module has no providers, by design.
  required_version = ">= 1.9"
}
