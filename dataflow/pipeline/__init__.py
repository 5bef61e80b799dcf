"""The data-flow engine: Arrow record batches through sources, transforms and destinations."""

from dataflow.pipeline.engine import ComponentStats, DataFlowStats, PathStats
from dataflow.pipeline.run import run_data_flow

__all__ = ["ComponentStats", "DataFlowStats", "PathStats", "run_data_flow"]
