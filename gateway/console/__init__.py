"""The operator console (COPAY_CONSOLE_LISTEN): a read-only page of the rollout at a glance, and every figure on
it as JSON. Changes stay in copayctl (four-eyes, reasons): nothing here writes."""
