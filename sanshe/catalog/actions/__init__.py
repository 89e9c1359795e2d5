"""Writing the catalogue: service items and price lists (items.py), providers' licences, contracts
and facilities (providers.py), caregivers and qualifications (staff.py), and the district's service
settings (settings.py). Each action checks who acts, validates everything before writing, and
records the change in the audit log."""
