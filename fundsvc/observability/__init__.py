"""What the service tells the people who run it (README "Logs, metrics and health"): a JSON log line and a request
id per request (`requests`), Prometheus metrics (`metrics`), the health and readiness checks (`health`)."""
