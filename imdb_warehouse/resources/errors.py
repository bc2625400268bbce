class WarehouseError(ValueError):
    """An output or table that breaks the warehouse's contract. The message says what to change;
    nothing was written."""
