# Inputs the root module takes from the AWS provider and from its own resources. They are not user settings.

variable "partition" {
  description = "The AWS partition of the provider (aws, aws-cn, aws-us-gov)."
  type        = string
  nullable    = false
}

variable "region" {
  description = "The provider's region."
  type        = string
  nullable    = false
}

variable "account_id" {
  description = "The provider's account ID."
  type        = string
  nullable    = false
}

variable "task_role_arn" {
  description = "The drainer task role's ARN, which the events role may pass."
  type        = string
  nullable    = false
}

variable "execution_role_arn" {
  description = "The drainer task execution role's ARN, which the events role may pass."
  type        = string
  nullable    = false
}

variable "dead_letter_queue_arn" {
  description = "The dead-letter queue's ARN."
  type        = string
  nullable    = false
}

variable "rule_arns" {
  description = "The ARNs of the module's rules (lifecycle and sweep), which may send to the dead-letter queue."
  type        = list(string)
  nullable    = false
}

variable "task_failures_queue_arn" {
  description = "The task-failures queue's ARN (enable_alarms), which only the task-failures rule may send to."
  type        = string
  default     = null
}

variable "task_failures_rule_arn" {
  description = "The ARN of the rule that matches the drainer's failed tasks (enable_alarms)."
  type        = string
  default     = null
}
