terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Checked against the 5.x and 6.x provider schemas only.
      version = ">= 5.0, < 7.0"
    }
  }
}
