"""copay-gateway: the hub through which pooling regions share employee
personal-account money with family members (家庭共济)."""
