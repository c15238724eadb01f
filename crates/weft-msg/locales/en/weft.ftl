# Weft's messages in English. Every id here is also in zh-CN/weft.ftl (a
# test checks it). Diagnostics: the message is the value, `.label` the text
# at the place, `.help` what to write instead. `{"{"}` is a literal brace.

## Pre-scan (E01xx)

syntax-semicolon = unexpected `;`
    .label = not expected here
    .help = Weft does not end lines with `;`: remove it
fullwidth-semicolon = full-width `；` is not Weft punctuation
    .label = typed with a Chinese input method
fullwidth = full-width `{ $char }` is not Weft punctuation
    .label = typed with a Chinese input method; { $meant } is meant
    .help = switch the input method to half-width (English) punctuation and type { $meant }
fullwidth-space = a full-width space
fullwidth-more = { $count } more full-width punctuation marks not shown
    .label = the last one shown

## Parser (E01xx)

syntax-keyword-as-name = `{ $word }` is a keyword and cannot be used as a name
    .label = a keyword here
    .help = choose another name, such as `{ $word }_`
help-compare-equals = to compare two values write `==`
help-single-quotes = write text in double quotes: "…"
help-ends-early = the item ends too early: something is missing at its end
help-item-keyword = every item starts with a keyword such as `rule`, `param` or `table`; write notes as comments starting with `//`
help-currency = amounts are in yuan, written with `¥`: e.g. `¥600 per month`
help-fullwidth-yen = type the half-width `¥` (switch the input method to English punctuation)
agg-where-without-name = `{ $name }` needs a name for each member to filter them
    .label = `where` needs a name such as `m` for each member
    .help = write `{ $shape }`, and use `m` in the condition

## Names (E02xx)

name-not-imported = `{ $name }` is declared in module `{ $module }`, which is not imported here

## Types and expressions (E03xx)

if-types-differ = the two branches of this `if` give different types: `{ $a }` and `{ $b }`
match-types-differ = the cases of this `match` give different types: `{ $a }` and `{ $b }`
    .label = `{ $b }`, where the cases above give `{ $a }`
same-type-periods = amounts of different periods do not mix: convert one with `per_month(…)` or `per_year(…)`
same-type-share = { $who } must give an amount: a share of an amount is a product, e.g. `¥600 * 0.5`
same-type-yuan = { $who } must give an amount: write amounts with `¥`, e.g. `¥0` rather than `0`
same-type-example = { $who } must give the same type: write { $example } here too
same-type = { $who } must give a value of the same type
who-if = both branches of `if … then … else`
who-match = every case of a `match`
example-money = an amount such as `¥0`
example-decimal = a decimal such as `0.5`
example-int = a whole number such as `0`
example-bool = `true` or `false`
example-months = a duration such as `0 months`
example-years = a duration such as `0 years`
example-days = a duration such as `0 days`
example-date = a date such as `2019-07-01`
help-condition-times = a condition is not a number: write `if CONDITION then VALUE else { $zero }`
help-duration-months = durations are whole numbers: compare in months, e.g. `months_between(date_of_birth, as_of) >= { $months } months`
help-duration-limit = write the limit as a duration: `{ $value } { $unit }`
help-duration-example = write the limit as a duration, e.g. `60 { $unit }`
no-field = `{ $record }` has no field `{ $field }`
    .label = unknown field
field-is-rule-test = `{ $name }` is a rule, computed from the fields
    .help = a test gives a record's fields only; to check the rule write `expect { $name }(…) == …` after the records
field-is-rule = `{ $name }` is a rule, not a field
    .help = call the rule with the record: `{ $name }(…)`
did-you-mean = did you mean `{ $name }`?
param-type = a parameter cannot hold `{ $ty }`
    .label = not a parameter type
    .help = parameters hold Bool, Int, Decimal, Money, Date, durations, enums or bands
param-optional = a parameter has a value in every version: write `{ $ty }` without `?`

## Parameter files (E06xx)

param-no-values = `{ $name }` has no values
    .label = declared without any version
toml-invalid = this parameter file is not valid TOML
toml-not-date = not a date
toml-currency-sign = an amount with a currency sign
toml-after-number = `{ $char }` after the number
toml-unit = the unit `{ $unit }` after the number
toml-percent = a percent sign
help-toml-plain-yuan = write amounts as plain numbers of yuan: `{ $key } = { $number }`
help-toml-remove = remove the `{ $char }`: a value is a plain number, `{ $key } = { $number }`
help-toml-unit = write amounts as plain numbers of yuan, without the unit: `{ $key } = { $number }`
help-toml-percent = TOML has no percentages: write the rate as a decimal, `{ $key } = { $decimal }` for { $number }%
help-date-chinese = write the date as year-month-day with hyphens and without quotes: `effective = { $date }`
help-date-swapped = there is no month { $month }: dates are year-month-day, so write `{ $date }`
help-date-format = write the date as YYYY-MM-DD without quotes, e.g. `effective = 2018-07-01`
not-a-date = `{ $text }` is not a date
    .label = expected YYYY-MM-DD
version-no-value = this version gives no `{ $field }`
    .label = write `{ $field } = …`

## Kinds of declaration, in "there is no … named"

kind-parameter = parameter
kind-type = type
kind-value = value
kind-rule = rule
kind-output = output
kind-record = record
kind-enum = enum
no-such-name = there is no { $what } named `{ $name }`
    .label = unknown name
not-imported = not imported
    .help = add `import { $module }.{"{"}{ $name }{"}"}` at the top of this file
did-you-mean-far = did you mean `{ $name }`? It is declared in module `{ $module }`: add `import { $module }.{"{"}{ $name }{"}"}` at the top of this file

## Operators (E0321, E0322) and cycles (E0501)

cannot-add = cannot add `{ $a }` and `{ $b }`
cannot-subtract = cannot subtract `{ $a }` and `{ $b }`
cannot-multiply = cannot multiply `{ $a }` and `{ $b }`
cannot-divide = cannot divide `{ $a }` and `{ $b }`
cannot-combine = cannot combine `{ $a }` and `{ $b }`
cannot-compare = cannot compare `{ $a }` with `{ $b }`
cycle = `{ $name }` depends on itself: { $path }
    .label = `{ $name }` uses `{ $next }` here
    .help = a rule may not depend on its own value; break the cycle by computing one of them without the other
cycle-continues = `{ $name }` continues the cycle here
cycle-continues-note = { $location }: `{ $name }` continues the cycle

## Plausibility warnings (W070x)

plaus-far-date = `{ $name }` has a version in force from { $date }, far beyond the others
    .label = { $years } years after the pack's latest other version ({ $previous })
    .help = check the year: a slip of the keyboard (`2081` for `2018`) makes a version never apply
plaus-mid-month = `{ $name }` has a version in force from { $date }, in the middle of a month
    .label = day { $day } of the month
    .help = policies are evaluated by month, so this version first counts for the month after; write `effective = { $month }-01` if it is meant from { $month }
plaus-jump = the `{ $name }` of { $date } is far from the version before it
    .label = { $old } before, { $new } from here
    .help = more than { $factor } times larger or smaller: check the figure (a yearly amount typed into a monthly parameter is 12 times too large)
