"""Class ids and task type names of every SSIS version, mapped to one canonical name.

Data tables only. Components are keyed by their 2014+ ``componentClassID`` (``Microsoft.Sort``);
the GUIDs of 2005/2008/2012 and the 2012 ProgIDs are aliases. Managed components
(``Microsoft.ManagedComponentHost`` and its GUIDs) are identified by ``UserComponentTypeName``,
whose assembly-qualified 2005-2012 forms map to the 2014+ short names. Task types likewise map
from their .NET / ProgID names to the 2014+ ``Microsoft.*`` names.
"""

from __future__ import annotations

from typing import Final

MANAGED_HOST: Final = "Microsoft.ManagedComponentHost"

# canonical id -> aliases (fmt 6, fmt 3, fmt 2 GUIDs and ProgIDs); reference/ssis/dtsx-format.md §4
_COMPONENT_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "Microsoft.OLEDBSource": (
        "{165A526D-D5DE-47FF-96A6-F8274C19826B}",
        "{BCEFE59B-6819-47F7-A125-63753B33ABB7}",
        "{2C0A8BE5-1EDC-4353-A0EF-B778599C65A0}",
        "DTSAdapter.OLEDBSource.3",
        "DTSAdapter.OLEDBSource",
    ),
    "Microsoft.OLEDBDestination": (
        "{4ADA7EAA-136C-4215-8098-D7A7C27FC0D1}",
        "{5A0B62E8-D91D-49F5-94A5-7BE58DE508F0}",
        "{E2568105-9550-4F71-A638-B7FE42E66922}",
        "DTSAdapter.OLEDBDestination.3",
        "DTSAdapter.OLEDBDestination",
    ),
    "Microsoft.FlatFileSource": (
        "{D23FD76B-F51D-420F-BBCB-19CBF6AC1AB4}",
        "{5ACD952A-F16A-41D8-A681-713640837664}",
        "{90C7770B-DE7C-435E-880E-E718C92C0573}",
        "DTSAdapter.FlatFileSource.3",
    ),
    "Microsoft.FlatFileDestination": (
        "{8DA75FED-1B7C-407D-B2AD-2B24209CCCA4}",
        "{D658C424-8CF0-441C-B3C4-955E183B7FBA}",
        "{A1DF9F6D-8EE4-4EF0-BB2E-D526130D7A7B}",
        "DTSAdapter.FlatFileDestination.3",
    ),
    "Microsoft.DerivedColumn": (
        "{49928E82-9C4E-49F0-AABE-3812B82707EC}",
        "{2932025B-AB99-40F6-B5B8-783A73F80E24}",
        "{9CF90BF0-5BCC-4C63-B91D-1F322DC12C26}",
        "DTSTransform.DerivedColumn.3",
    ),
    "Microsoft.ConditionalSplit": (
        "{7F88F654-4E20-4D14-84F4-AF9C925D3087}",
        "{3AE878C6-0D6C-4F48-8128-40E00E9C1B7D}",
        "{53A228EE-EBFA-48D6-A1AC-5269E5824A2C}",
        "DTSTransform.ConditionalSplit.3",
    ),
    "Microsoft.Lookup": (
        "{671046B0-AA63-4C9F-90E4-C06E0B710CE3}",
        "{27648839-180F-45E6-838D-AFF53DF682D2}",
        "{0FB4AABB-C027-4440-809A-1198049BF117}",
        "DTSTransform.Lookup.3",
    ),
    "Microsoft.Sort": (
        "{5B1A3FF5-D366-4D75-AD1F-F19A36FCBEDB}",
        "{07127A7C-164B-422A-AD1F-24BE39B4DB38}",
        "{F1CEE4CE-066D-4FBE-9DC4-CD97202F3450}",
        "DTSTransform.Sort.3",
    ),
    "Microsoft.Aggregate": (
        "{5B201335-B360-485C-BB93-75C34E09B3D3}",
        "{9ABE8DF3-0052-42DB-8B18-2089E1D1D1B7}",
        "{F40CF2A6-384A-4C57-B99C-ADAF31E51EBC}",
        "DTSTransform.Aggregate.3",
    ),
    "Microsoft.UnionAll": (
        "{B594E9A8-4351-4939-891C-CFE1AB93E925}",
        "{4D9F9B7C-84D9-4335-ADB0-2542A7E35422}",
        "{C5E47A29-265C-4F93-82CA-D8462EE23278}",
        "DTSTransform.UnionAll.3",
    ),
    "Microsoft.MergeJoin": (
        "{14D43A4F-D7BD-489D-829E-6DE35750CFE4}",
        "{A18A4D58-7C7A-4448-8B98-AE2CEFE81B4C}",
        "{0D598A60-0A32-4B1B-A72C-5030B64E3A20}",
        "DTSTransform.MergeJoin.3",
    ),
    "Microsoft.Merge": ("{08AE886A-4124-499C-B332-16E3299D225A}", "DTSTransform.Merge.3"),
    "Microsoft.Multicast": (
        "{EC139FBC-694E-490B-8EA7-35690FB0F445}",
        "{1ACA4459-ACE0-496F-814A-8611F9C27E23}",
        "{F1CEE4CE-066D-4FBE-9DC4-4C697A617264}",
        "DTSTransform.Multicast.3",
    ),
    "Microsoft.DataConvert": (
        "{62B1106C-7DB8-4EC8-ADD6-4C664DFFC54A}",
        "{BD06A22E-BC69-4AF7-A69B-C44C2EF684BB}",
        "{C3BF62C8-7C5C-4F85-83C3-E0B6F6BE267C}",
        "DTSTransform.DataConvert.3",
    ),
    "Microsoft.RowCount": (
        "{E2697D8C-70DA-42B2-8208-A19CE3A9FE41}",
        "{150E6007-7C6A-4CC3-8FF3-FC73783A972E}",
        "{DE50D3C7-41AF-4804-9247-CF1DEB147971}",
        "DTSTransform.RowCount.3",
    ),
    "Microsoft.RecordsetDestination": (
        "{C457FD7E-CE98-4C4B-AEFE-F3AE0044F181}",
        "{167AF7E9-BA81-425F-B73D-E30C2DCC0F09}",
        "{FFF3C376-C5BF-45BC-A3A3-C8C9DEDD2CF5}",
        "DTSAdapter.RecordsetDestination.3",
    ),
    "Microsoft.SQLServerDestination": (
        "{F452EAF3-5EF0-43F1-8067-09DDF0BC6316}",
        "{E4B61516-847B-4BDF-9CC6-1968A2D43E73}",
        "{5244B484-7C76-4026-9A01-00928EA81550}",
        "DTSAdapter.SQLServerDestination.3",
    ),
    "Microsoft.OLEDBCommand": (
        "{93FFEC66-CBC8-4C7F-9C6A-CB1C17A7567D}",
        "{8E61C8F6-C91D-43B6-97EB-3423C06571CC}",
        "{C60ACAD1-9BE8-46B3-87DA-70E59EADEA46}",
        "DTSTransform.OLEDBCommand.3",
    ),
    "Microsoft.ExcelSource": (
        "{8C084929-27D1-479F-9641-ABB7CDADF1AC}",
        "{A4B1E1C8-17F3-46C8-AAD0-34F0C6FE42DE}",
        "{B551FCA8-23BD-4719-896F-D8F352A5283C}",
        "DTSAdapter.ExcelSource.3",
    ),
    "Microsoft.ExcelDestination": (
        "{1F5D5712-2FBA-4CB9-A95A-86C1F336E1DA}",
        "DTSAdapter.ExcelDestination.3",
    ),
    "Microsoft.RawSource": (
        "{480C7D5A-CE63-405C-B338-3C7F26560EE3}",
        "{E2568105-9550-4F71-A638-B7FE42E66930}",
        "DTSAdapter.RawSource.3",
    ),
    "Microsoft.RawDestination": (
        "{04762BB6-892F-4EE6-AD46-9CEB0A7EC7A2}",
        "{E2568105-9550-4F71-A638-B7FE42E66933}",
        "DTSAdapter.RawDestination.3",
    ),
    "Microsoft.CharacterMap": (
        "{C86C867A-7D40-486A-8734-F0B6943A9DD4}",
        "{DEC33219-BA68-4FEB-AC98-9C1B1E577A8D}",
        "{2D9FDEDD-085F-4294-ABBA-818E2CCD0733}",
        "DTSTransform.CharacterMap.3",
    ),
    "Microsoft.Lineage": (
        "{4FCE8297-9C65-40A9-9D60-00C5CC6BC283}",
        "{32711D35-7D9D-44E5-B57E-A17D33D5C38C}",
        "{18C6AD8E-96E0-4C94-885B-B5FD43A8A101}",
        "DTSTransform.Lineage.3",
    ),
    "Microsoft.Cache": (
        "{BF818E79-2C1C-410D-ADEA-B2D1A04FED01}",
        "{A236DD44-4409-433E-A1CE-283DA18F4E0F}",
    ),
    "Microsoft.Inserter": (
        "{9053CAE0-140B-48E4-AEEC-4E6A26E9E436}",
        "{C8AEEE54-67A0-41A8-821D-D1C8BED62C68}",
        "{B0779BAF-39EA-44A1-B7EA-C2FAF97E0AB8}",
    ),
    "Microsoft.Extractor": (
        "{A9823821-0085-4483-952F-36277F63FFC5}",
        "{86151302-DCDB-49FB-92FE-772EC02712B6}",
    ),
    "Microsoft.SCD": ("{25BBB0C5-369B-4303-B3DF-D0DC741DEE58}",),
    "Microsoft.Pivot": ("{AEB2AFAE-2201-48B1-B290-42BB8C9149DD}",),
    "Microsoft.UnPivot": (
        "{B8B094A9-8809-4E06-8874-5C55606A9FDF}",
        "{CDEA2A77-9235-47FC-9D9E-B32EC6F8ACE9}",
    ),
    "Microsoft.RowSampling": (),
    "Microsoft.PctSampling": (),
    "Microsoft.CopyMap": (),
    "Microsoft.FuzzyLookup": ("{E4A5F949-EC93-45AB-8B36-B52936257EC2}",),
    "Microsoft.FuzzyGrouping": (),
    "Microsoft.TermLookup": ("{ACCC729A-823D-49A7-B16D-F1999AEB1D4C}",),
    "Microsoft.TermExtraction": ("{056F53D1-8081-4D07-8134-1D4DAC244BB2}",),
    # Our additions (no SSIS equivalent): Parquet files as sources and destinations.
    "Dataflow.ParquetSource": (),
    "Dataflow.ParquetDestination": (),
    MANAGED_HOST: (
        "{874F7595-FB5F-40FF-96AF-FBFF8250E3EF}",
        "{2E42D45B-F83C-400F-8D77-61DDE6A7DF29}",
        "{BF01D463-7089-41EE-8F05-0A6DC17CE633}",
        "DTS.ManagedComponentWrapper.3",
        "DTS.ManagedComponentWrapper",
    ),
}

COMPONENT_CLASS_IDS: Final[dict[str, str]] = {
    alias.upper(): canonical
    for canonical, aliases in _COMPONENT_ALIASES.items()
    for alias in (canonical, *aliases)
}

# Managed components: assembly-qualified type name (before the comma) -> 2014+ short name.
_MANAGED_NAMES: Final[dict[str, str]] = {
    "Microsoft.SqlServer.Dts.Pipeline.ScriptComponentHost": "Microsoft.ScriptComponentHost",
    "Microsoft.SqlServer.Dts.Pipeline.DataReaderDestinationAdapter": "Microsoft.DataReaderDestinationAdapter",
    "Microsoft.SqlServer.Dts.Pipeline.DataReaderSourceAdapter": "Microsoft.DataReaderSourceAdapter",
    "Microsoft.SqlServer.Dts.Pipeline.ADONETDestination": "Microsoft.ADONETDestination",
    "Microsoft.SqlServer.Dts.Pipeline.XmlSourceAdapter": "Microsoft.XmlSourceAdapter",
    # 2012 names of the CDC components (2014+ uses the short names)
    "Attunity.SqlServer.CDCSrc.CdcSourceComponent": "Attunity.CdcSourceComponent",
    "Attunity.SqlServer.CDCSplit.CdcSplitterComponent": "Attunity.CdcSplitterComponent",
}


def canonical_component(class_id: str, user_component_type_name: str = "") -> str:
    """The canonical kind of a component: ``Microsoft.Sort`` for any Sort class id; for a managed
    host, its ``UserComponentTypeName`` in 2014+ form; unknown ids are returned unchanged."""
    canonical = COMPONENT_CLASS_IDS.get(class_id.strip().upper(), class_id.strip())
    if canonical == MANAGED_HOST and user_component_type_name:
        short = user_component_type_name.split(",", 1)[0].strip()
        return _MANAGED_NAMES.get(short, short)
    return canonical


# ------------------------------------------------------------------------------------------------
# Executables
# ------------------------------------------------------------------------------------------------

CONTAINER_KINDS: Final[dict[str, str]] = {
    "STOCK:SEQUENCE": "sequence",
    "STOCK:FORLOOP": "forloop",
    "STOCK:FOREACHLOOP": "foreachloop",
}

PACKAGE_TYPES: Final[frozenset[str]] = frozenset(
    {"MICROSOFT.PACKAGE", "SSIS.PACKAGE.3", "SSIS.PACKAGE.2", "MSDTS.PACKAGE.1", "SSIS.PACKAGE"}
)

# task type aliases (ProgIDs, CLSIDs, .NET type names before the comma) -> 2014+ name
_TASK_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "Microsoft.Pipeline": (
        "SSIS.Pipeline.3",
        "SSIS.Pipeline.2",
        "DTS.Pipeline.1",
        "SSIS.Pipeline",
        "{5918251B-2970-45A4-AB5F-01C3C588FE5A}",
        "{E3CFBEA8-1F48-40D8-91E1-2DEDC1EDDD56}",
        "{C3BF9DC1-4715-4694-936F-D3CFDA9E42C5}",
    ),
    "Microsoft.ExecuteSQLTask": ("Microsoft.SqlServer.Dts.Tasks.ExecuteSQLTask.ExecuteSQLTask",),
    "Microsoft.ScriptTask": ("Microsoft.SqlServer.Dts.Tasks.ScriptTask.ScriptTask",),
    "Microsoft.SendMailTask": ("Microsoft.SqlServer.Dts.Tasks.SendMailTask.SendMailTask",),
    "Microsoft.FileSystemTask": ("Microsoft.SqlServer.Dts.Tasks.FileSystemTask.FileSystemTask",),
    "Microsoft.FtpTask": ("Microsoft.SqlServer.Dts.Tasks.FtpTask.FtpTask",),
    "Microsoft.ExecutePackageTask": (
        "SSIS.ExecutePackageTask.3",
        "SSIS.ExecutePackageTask.2",
        "DTS.ExecutePackageTask.1",
        "Microsoft.SqlServer.Dts.Tasks.ExecutePackageTask.ExecutePackageTask",
    ),
    "Microsoft.ExecuteProcess": ("Microsoft.SqlServer.Dts.Tasks.ExecuteProcess.ExecuteProcess",),
    "Microsoft.ExpressionTask": ("Microsoft.SqlServer.Dts.Tasks.ExpressionTask.ExpressionTask",),
    "Microsoft.BulkInsertTask": ("Microsoft.SqlServer.Dts.Tasks.BulkInsertTask.BulkInsertTask",),
    "Microsoft.XMLTask": ("Microsoft.SqlServer.Dts.Tasks.XMLTask.XMLTask",),
    "Microsoft.WebServiceTask": ("Microsoft.SqlServer.Dts.Tasks.WebServiceTask.WebServiceTask",),
    "Microsoft.WmiEventWatcherTask": (
        "Microsoft.SqlServer.Dts.Tasks.WmiEventWatcherTask.WmiEventWatcherTask",
    ),
    "Microsoft.WmiDataReaderTask": (
        "Microsoft.SqlServer.Dts.Tasks.WmiDataReaderTask.WmiDataReaderTask",
    ),
    "Microsoft.MessageQueueTask": (
        "Microsoft.SqlServer.Dts.Tasks.MessageQueueTask.MessageQueueTask",
    ),
    "Microsoft.DataProfilingTask": (
        "Microsoft.SqlServer.Dts.Tasks.DataProfilingTask.DataProfilingTask",
    ),
    "Microsoft.DMQueryTask": ("Microsoft.SqlServer.Dts.Tasks.DMQueryTask.DMQueryTask",),
    "Microsoft.DTSProcessingTask": (
        "Microsoft.DataTransformationServices.Tasks.DTSProcessingTask.DTSProcessingTask",
    ),
    "Microsoft.ASExecuteDDLTask": (
        "Microsoft.DataTransformationServices.Tasks.DTSProcessingTask.ASExecuteDDLTask",
    ),
    "Microsoft.Exec80PackageTask": (
        "Microsoft.SqlServer.Dts.Tasks.Exec80PackageTask.Exec80PackageTask",
    ),
    "Microsoft.TransferDatabaseTask": (
        "Microsoft.SqlServer.Dts.Tasks.TransferDatabaseTask.TransferDatabaseTask",
    ),
    "Microsoft.DbMaintenanceReindexTask": (
        "Microsoft.SqlServer.Management.DatabaseMaintenance.DbMaintenanceReindexTask",
    ),
    "Microsoft.CdcControlTask": (
        "Attunity.CdcControlTask",
        "Attunity.SqlServer.CDCControlTask.CdcControlTask",
    ),
}

TASK_TYPES: Final[dict[str, str]] = {
    alias.upper(): canonical
    for canonical, aliases in _TASK_ALIASES.items()
    for alias in (canonical, *aliases)
}


def canonical_task_type(creation_name: str) -> str:
    """The 2014+ name of a task type; unknown (third-party) types are returned unchanged."""
    short = creation_name.split(",", 1)[0].strip()
    if short.upper() in PACKAGE_TYPES:
        return "Microsoft.Package"
    if short.upper() in CONTAINER_KINDS:
        return short.upper()
    return TASK_TYPES.get(short.upper(), short)


def executable_kind(creation_name: str) -> str:
    """``package``, ``sequence``, ``forloop``, ``foreachloop`` or ``task``."""
    short = creation_name.split(",", 1)[0].strip().upper()
    if short in PACKAGE_TYPES:
        return "package"
    return CONTAINER_KINDS.get(short, "task")
