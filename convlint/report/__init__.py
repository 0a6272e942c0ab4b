"""Stage 4, reports: findings, summaries and rule docs printed in each output format, one module per
format (:mod:`convlint.report.formats` names them).  Formatters only print."""
