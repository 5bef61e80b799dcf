"""Built-in data-flow components: one module per component, registered by SSIS class id."""
