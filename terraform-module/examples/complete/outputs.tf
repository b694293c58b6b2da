output "task_definition_arn" {
  description = "The drainer's task definition ARN."
  value       = module.scale_in_drainer.task_definition_arn
}

output "hook_names" {
  description = "The lifecycle hooks' names, one per group."
  value       = module.scale_in_drainer.hook_names
}

output "dead_letter_queue_url" {
  description = "Watch this queue: a message here is a drainer that EventBridge could not start."
  value       = module.scale_in_drainer.dead_letter_queue_url
}

output "log_group_name" {
  description = "The drainer's logs."
  value       = module.scale_in_drainer.log_group_name
}
