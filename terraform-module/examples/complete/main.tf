# Safe scale-in for an existing ECS cluster and its two Auto Scaling groups, with every setting spelled out.
# The drainer image comes from `make all` at the repository's root, which builds and publishes it.

provider "aws" {
  region = var.region
}

module "scale_in_drainer" {
  source = "../.."

  name                    = "prod-drainer"
  cluster_name            = var.cluster_name
  autoscaling_group_names = var.autoscaling_group_names
  subnet_ids              = var.subnet_ids
  security_group_ids      = var.security_group_ids
  assign_public_ip        = false
  drainer_image           = var.drainer_image

  heartbeat_timeout     = 900
  drain_timeout         = 3600
  poll_interval         = 10
  ecs_reads_per_second  = 15
  timeout_result        = "CONTINUE"
  stop_standalone_tasks = false

  enable_sweep   = true
  sweep_schedule = "rate(5 minutes)"

  enable_alarms = true
  # Your account's "Fargate On-Demand vCPU resource count" in the region (Service Quotas, L-3032A538); 6 is AWS's
  # listed default. The alarm fires at 80% of it.
  fargate_vcpu_quota = 6

  cpu                = 256
  memory             = 512
  log_retention_days = 30
  launch_type        = "FARGATE"
  cpu_architecture   = "X86_64" # ARM64 needs an image with a linux/arm64 variant (drainer_image)
  hook_name          = "ecs-scale-in-drainer"

  role_path            = "/"
  permissions_boundary = var.permissions_boundary
  kms_key_arn          = var.kms_key_arn

  tags = {
    Environment = "prod"
    ManagedBy   = "terraform"
  }
}
