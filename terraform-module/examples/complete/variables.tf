variable "region" {
  description = "The AWS region of the cluster."
  type        = string
  default     = "us-west-2"
}

variable "cluster_name" {
  description = "The ECS cluster to drain instances of, by name or ARN."
  type        = string
}

variable "autoscaling_group_names" {
  description = "The cluster's Auto Scaling groups."
  type        = list(string)
}

variable "subnet_ids" {
  description = "Private subnets with a route to the ECS and Auto Scaling APIs and to ECR."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups that allow the drainer's outbound HTTPS."
  type        = list(string)
}

variable "drainer_image" {
  description = "The drainer image URI that `make all` printed, or null for the module's default, the published release."
  type        = string
  default     = null
}

variable "permissions_boundary" {
  description = "An IAM managed policy ARN to set as the permissions boundary of the drainer's roles, or null for none."
  type        = string
  default     = null
}

variable "kms_key_arn" {
  description = "A KMS key ARN to encrypt the drainer's log group and queues (see the module's README for its key policy), or null."
  type        = string
  default     = null
}
