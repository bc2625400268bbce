from imdb_warehouse.resources.errors import WarehouseError
from imdb_warehouse.resources.io_manager import PostgresPolarsIOManager
from imdb_warehouse.resources.postgres import PostgresResource

__all__ = ["PostgresPolarsIOManager", "PostgresResource", "WarehouseError"]
