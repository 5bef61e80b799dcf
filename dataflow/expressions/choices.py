"""Decisions on behaviour the reference leaves undocumented or contradictory -- all in one place.

Each entry: what we do, and why. Golden cases that pin a choice carry ``choice:<KEY>`` in their
comment; ``tests/expressions/test_choices.py`` checks every key here is pinned by a golden case.
"""

from __future__ import annotations

from typing import Final

CHOICES: Final[dict[str, str]] = {
    "TOKEN_PAST_END": (
        'TOKEN(s, delims, n) with n greater than the number of tokens (or n < 1) returns "" (empty '
        'string), not NULL. The doc text says NULL but the doc\'s own example shows ""; a concrete '
        'example is better evidence than prose, and "" keeps string concatenations non-NULL.'
    ),
    "WEEKS": (
        'Weeks follow T-SQL with DATEFIRST 7: weekday Sunday=1..Saturday=7; DATEPART("wk") is '
        "the 1-based week of the year with weeks starting on Sunday (Jan 1 is always in week 1); "
        'DATEDIFF("wk") counts Sunday boundaries crossed. SSIS documents neither; these are the '
        "SQL Server defaults its date functions mirror."
    ),
    "NUMERIC_RESULT_PRECISION": (
        "DT_NUMERIC results of + - * / use the SQL Server rules capped at precision 38: add/sub "
        "s=max(s1,s2), p=max(p1-s1,p2-s2)+s+1; mul p=p1+p2+1, s=s1+s2; div s=max(6,s1+p2+1), "
        "p=p1-s1+s2+s. Integers count as NUMERIC(digits,0) (I4 -> 10, I8 -> 19, UI8 -> 20), "
        "DT_CY as (19,4), DT_DECIMAL as (29,s). When p would exceed 38 it is 38 and the scale is "
        "kept if it fits. Results are rounded half away from zero to the result scale; a value "
        "that does not fit raises DTS_E_EXPREVALBINARYOPNUMERICOVERFLOW."
    ),
    "CAST_ROUNDING": (
        "Casts of DT_R4/DT_R8/DT_NUMERIC/DT_DECIMAL/DT_CY to an integer type round half away "
        "from zero ((DT_I4)3.5 = 4, (DT_I4)-2.5 = -3): SSIS is widely reported to round, not "
        "truncate, and away-from-zero is the .NET Decimal/VARIANT conversion SSIS uses for "
        "numerics. Decimal rescaling and float->decimal casts round half away from zero too; a "
        "float is first rounded to the target scale in binary floating point (x*10^s rounded, "
        "/10^s) which is what the vectorised back end computes."
    ),
    "ROUND_FLOAT": (
        "ROUND(x, n) on DT_R4/DT_R8 rounds half away from zero on x*10^n computed in double "
        "precision (ROUND(2.675, 2) = 2.68, ROUND(1.005, 2) = 1.0); ROUND with n < 0 is a row "
        "error DTS_E_EXPREVALPARAMTYPEMISMATCH (SSIS says negative lengths are not allowed)."
    ),
    "STRING_UNITS": (
        "String functions count Unicode code points, not UTF-16 code units (they differ only for "
        "characters outside the BMP). LEN, SUBSTRING, LEFT, RIGHT, FINDSTRING and REVERSE all use "
        "code points; CODEPOINT of a supplementary character returns its high surrogate, as SSIS "
        "would. Comparison is ordinal by code point."
    ),
    "STRING_LENGTH_BOUND": (
        "Strings are assumed shorter than 2^30 characters (the DT_NTEXT limit), so LEN/FINDSTRING "
        "results plus small constants cannot overflow DT_I4; this lets the vectorised back end skip "
        "impossible error checks."
    ),
    "FINDSTRING": (
        'FINDSTRING counts non-overlapping occurrences from the left (FINDSTRING("aaa","aa",2) = 0); '
        "an empty search string is never found (0)."
    ),
    "REPLACE_EMPTY": (
        "REPLACE with an empty search string returns the input unchanged (the reference says the "
        "search string must not be empty but gives no error code)."
    ),
    "CAST_TRUNCATION": (
        "An explicit cast to a shorter DT_WSTR/DT_STR truncates silently at run time (reference "
        "§4: truncation inside an expression is silent); DT_BYTES likewise."
    ),
    "BOOL_TEXT": 'DT_BOOL converts to the strings "True"/"False" (.NET Boolean.ToString()).',
    "BOOL_TO_UNSIGNED": (
        "TRUE is -1 as an integer; cast to an unsigned type that is an overflow "
        "(DTS_E_EXPREVALDATACONVERSIONOVERFLOW)."
    ),
    "FLOAT_TEXT": (
        "DT_R4/DT_R8 convert to the shortest text that round-trips (polars' formatting), without a "
        'trailing ".0" for integral values (3.0 -> "3", 0.1 -> "0.1", 1e20 -> "1e+20"); -0.0 '
        'prints as "0" as .NET Framework does. Arithmetic keeps IEEE -0.0 (CEILING(-0.5)); '
        "decimals have no negative zero."
    ),
    "DATE_TEXT": (
        "Date/time -> string uses the canonical layouts of datatypes.md §3: DT_DBDATE yyyy-mm-dd, "
        "DT_DBTIME hh:mm:ss, DT_DBTIME2(s) hh:mm:ss.f(s digits), DT_DBTIMESTAMP "
        "yyyy-mm-dd hh:mm:ss.fff (always 3 digits), DT_DBTIMESTAMP2(s) with s digits, DT_FILETIME "
        "yyyy-mm-dd hh:mm:ss:fff, DT_DATE yyyy-mm-dd hh:mm:ss (locale-independent ISO form). "
        "Strings -> date/time accept yyyy-mm-dd[( |T)hh:mm[:ss[.fffffff]]] (and hh:mm[:ss[.f]] for "
        "times); anything else is DTS_E_EXPREVALCASTFAILED."
    ),
    "MISSING_DATE": (
        "A time converted to a date-bearing type (and time arguments of date functions) gets the "
        "current date, as datatypes.md §3 documents for conversions."
    ),
    "HEX_LITERALS": (
        "A hex literal without suffix is DT_I4 when it fits, else DT_I8 (the reference only "
        "documents a U suffix)."
    ),
    "VARIABLE_SCOPE": (
        "@X (no namespace) resolves to User::X when given, else to the only Namespace::X given; "
        "several candidates outside User is an error (we use DTS_E_EXPREVALVARIABLENOTFOUND until "
        "DTS_E_EXPREVALAMBIGUOUSVARIABLENNAME is in the code table). Variable keys passed without a "
        "namespace mean User::."
    ),
    "ESCAPE_CODES": (
        "Illegal escapes in string literals raise DTS_E_EXPREVALINVALIDTOKEN until "
        "DTS_E_EXPREVALILLEGALESCAPEINSTRINGLITERAL / ...ILLEGALHEXESCAPE... are in the code table."
    ),
    "SHORT_CIRCUIT": (
        "&& and || short-circuit for errors: the right operand's run-time errors count only when "
        "the left operand does not decide the result (FALSE for &&, TRUE for ||); ?: only raises "
        "errors of the selected branch. REPLACENULL evaluates both arguments."
    ),
    "INNER_DT_STR": (
        "An inner (DT_STR,n,cp) cast or NULL(DT_STR,n,cp) is treated as DT_WSTR(n) (the reference "
        "calls the inner NULL(DT_STR) an error; stored packages use it, so we accept it)."
    ),
    "LINEAGE_REFID": (
        "A #{...Columns[Name]} reference not in the lineage map resolves to the column Name."
    ),
    "GETDATE": (
        "GETDATE()/GETUTCDATE() are evaluated once per batch in the vectorised back end (once per "
        "evaluation in the scalar one), truncated to milliseconds (DT_DBTIMESTAMP precision)."
    ),
    "UNTYPED_NULL": "A Python None without a types= entry is typed DT_WSTR.",
    "INT_DIVISION": (
        "Integer / integer stays integer and truncates toward zero; % takes the sign of the "
        "dividend (C semantics); division or modulo by zero is DTS_E_EXPREVALDIVBYZERO for every "
        "numeric type including floats."
    ),
    "STRING_TO_NUMBER": (
        "Strings convert to numbers after trimming spaces: integers need [+-]digits (no exponent, "
        "no decimal point), floats also accept a point and an exponent, decimals a point; other "
        "text is DTS_E_EXPREVALCASTFAILED; strings to DT_BOOL accept only true/false (any case)."
    ),
    "FLOAT_OVERFLOW": (
        "Float arithmetic follows IEEE (overflow gives infinity, no error); math functions whose "
        "result is infinite for a finite argument raise DTS_E_EXPREVALFUNCTIONOVERFLOW."
    ),
}
