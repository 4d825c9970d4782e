import Config

# Logs go to stdout (the container's log), one line each.
config :logger, :console, format: "$time [$level] $message $metadata\n", metadata: [:what]
