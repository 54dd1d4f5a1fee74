"""Leads: enquiries captured from a website's form, the API or a file, qualified and
converted into a client, a contact person and a deal in one step."""
