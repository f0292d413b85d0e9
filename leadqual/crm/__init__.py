"""CRM connectors, pure side: config, field mapping, inbound parsing, write-back payloads.

HubSpot lives in `leadqual.crm.hubspot`, Salesforce in `leadqual.crm.salesforce`; their HTTP
clients sit at the edge, in `bot.crm.hubspot` and `bot.crm.salesforce`.
"""
