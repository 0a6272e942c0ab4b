"""Stage 4, reports: findings, summaries and rule docs printed in each output format.  Formatters only print."""
