"""CRM connectors, edge side: HTTP clients and routes (one module per CRM); the pure half is leadqual.crm."""
