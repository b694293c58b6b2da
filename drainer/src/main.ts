// Placeholder entry point; replaced by the CLI.
console.log("drainer");
