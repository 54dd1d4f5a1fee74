"""The key-account toolkit: the client's own decision cycle, the stakeholder map, entry
chains through people we know, the influence plan, the deal status report and the key-
client dossier."""
