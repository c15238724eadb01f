# Weft 的中文消息。这里的每个 id 在 en/weft.ftl 中都有（有测试检查）。
# 诊断：值是消息，`.label` 标在出错的位置，`.help` 说明应当怎样写。

## 预扫描 (E01xx)

syntax-semicolon = 这里不应有 `;`
    .label = 多余的分号
    .help = Weft 的语句末尾不加 `;`：请删除它
fullwidth-semicolon = 全角分号 `；` 不是 Weft 的标点
    .label = 这是用中文输入法输入的
fullwidth = 全角 `{ $char }` 不是 Weft 的标点
    .label = 这是用中文输入法输入的，应为 { $meant }
    .help = 请把输入法切换到半角（英文）标点，输入 { $meant }
fullwidth-space = 全角空格
fullwidth-more = 另有 { $count } 个全角标点未列出
    .label = 上面列出的最后一个

## 语法 (E01xx)

syntax-keyword-as-name = `{ $word }` 是关键字，不能用作名称
    .label = 这里是关键字
    .help = 请换一个名称，例如 `{ $word }_`
help-compare-equals = 比较两个值是否相等要写 `==`
help-single-quotes = 文字要用英文双引号括起来："…"
help-ends-early = 这一项提前结束了：末尾缺少内容
help-item-keyword = 每一项都以 `rule`、`param`、`table` 等关键字开头；说明文字请写成以 `//` 开头的注释
help-currency = 金额以元为单位，用 `¥` 书写，例如 `¥600 per month`
help-fullwidth-yen = 请输入半角的 `¥`（把输入法切换到英文标点）
agg-where-without-name = `{ $name }` 要按条件筛选成员，需要先给每个成员起个名字
    .label = `where` 前需要一个代表每个成员的名字，例如 `m`
    .help = 请写成 `{ $shape }`，并在条件中使用 `m`

## 名称 (E02xx)

name-not-imported = `{ $name }` 在模块 `{ $module }` 中声明，但本模块没有导入该模块

## 类型与表达式 (E03xx)

if-types-differ = 这个 `if` 的两个分支得出的类型不同：`{ $a }` 和 `{ $b }`
match-types-differ = 这个 `match` 的各个情形得出的类型不同：`{ $a }` 和 `{ $b }`
    .label = 这里得出 `{ $b }`，而前面的情形得出 `{ $a }`
same-type-periods = 不同期间的金额不能混用：请用 `per_month(…)` 或 `per_year(…)` 换算其中一个
same-type-share = { $who }都必须得出金额：金额的一部分要写成乘积，例如 `¥600 * 0.5`
same-type-yuan = { $who }都必须得出金额：金额要带 `¥`，例如写 `¥0` 而不是 `0`
same-type-example = { $who }必须得出同一类型：这里也请写{ $example }
same-type = { $who }必须得出同一类型的值
who-if = `if … then … else` 的两个分支
who-match = `match` 的每个情形
example-money = 金额，例如 `¥0`
example-decimal = 小数，例如 `0.5`
example-int = 整数，例如 `0`
example-bool = `true` 或 `false`
example-months = 期间，例如 `0 months`
example-years = 期间，例如 `0 years`
example-days = 期间，例如 `0 days`
example-date = 日期，例如 `2019-07-01`
help-condition-times = 条件不是数值，不能相乘：请写成 `if 条件 then 数值 else { $zero }`
help-duration-months = 期间只能是整数：请按月比较，例如 `months_between(date_of_birth, as_of) >= { $months } months`
help-duration-limit = 请把界限写成期间：`{ $value } { $unit }`
help-duration-example = 请把界限写成期间，例如 `60 { $unit }`
no-field = 记录 `{ $record }` 没有字段 `{ $field }`
    .label = 没有这个字段
field-is-rule-test = `{ $name }` 是规则，由字段计算得出
    .help = 测试中只能给出记录的字段；要检验这条规则，请在记录之后写 `expect { $name }(…) == …`
field-is-rule = `{ $name }` 是规则，不是字段
    .help = 请把记录交给规则来计算：`{ $name }(…)`
did-you-mean = 是不是要写 `{ $name }`？
param-type = 参数不能是 `{ $ty }` 类型
    .label = 不是参数可用的类型
    .help = 参数可以是 Bool、Int、Decimal、Money、Date、期间、枚举或分段
param-optional = 参数在每个版本中都有值：请写 `{ $ty }`，去掉 `?`

## 参数文件 (E06xx)

param-no-values = 参数 `{ $name }` 没有任何取值
    .label = 声明了，但没有任何版本
toml-invalid = 这个参数文件不是有效的 TOML
toml-not-date = 不是日期
toml-currency-sign = 金额前带了货币符号
toml-after-number = 数字后面多了 `{ $char }`
toml-unit = 数字后面带了单位 `{ $unit }`
toml-percent = 带了百分号
help-toml-plain-yuan = 金额只写以元为单位的数字：`{ $key } = { $number }`
help-toml-remove = 请删除 `{ $char }`：取值只写数字，`{ $key } = { $number }`
help-toml-unit = 金额只写以元为单位的数字，不带单位：`{ $key } = { $number }`
help-toml-percent = TOML 不支持百分数：请把比例写成小数，{ $number }% 写作 `{ $key } = { $decimal }`
help-date-chinese = 日期请按“年-月-日”用连字符书写，不加引号：`effective = { $date }`
help-date-swapped = 没有 { $month } 月：日期按“年-月-日”的顺序书写，应为 `{ $date }`
help-date-format = 日期请写成 YYYY-MM-DD，不加引号，例如 `effective = 2018-07-01`
not-a-date = `{ $text }` 不是日期
    .label = 应为 YYYY-MM-DD
version-no-value = 这个版本没有给出 `{ $field }`
    .label = 请写 `{ $field } = …`

## 声明的种类，用于“没有名为……的……”

kind-parameter = 参数
kind-type = 类型
kind-value = 值
kind-rule = 规则
kind-output = 输出
kind-record = 记录
kind-enum = 枚举
no-such-name = 没有名为 `{ $name }` 的{ $what }
    .label = 未知的名称
not-imported = 未导入
    .help = 请在本文件开头加上 `import { $module }.{"{"}{ $name }{"}"}`
did-you-mean-far = 是不是要写 `{ $name }`？它在模块 `{ $module }` 中声明：请在本文件开头加上 `import { $module }.{"{"}{ $name }{"}"}`

## 运算 (E0321、E0322) 与循环 (E0501)

cannot-add = `{ $a }` 与 `{ $b }` 不能相加
cannot-subtract = `{ $a }` 与 `{ $b }` 不能相减
cannot-multiply = `{ $a }` 与 `{ $b }` 不能相乘
cannot-divide = `{ $a }` 与 `{ $b }` 不能相除
cannot-combine = `{ $a }` 与 `{ $b }` 不能这样运算
cannot-compare = `{ $a }` 与 `{ $b }` 不能比较
cycle = 规则 `{ $name }` 依赖于它自身：{ $path }
    .label = `{ $name }` 在这里用到了 `{ $next }`
    .help = 规则不能依赖自己的值；请让其中一条规则不经由另一条来计算，从而打破循环
cycle-continues = `{ $name }` 在这里延续了循环
cycle-continues-note = { $location }：`{ $name }` 延续了循环

## 合理性警告 (W070x)

plaus-far-date = 参数 `{ $name }` 有一个自 { $date } 起施行的版本，远远晚于其他版本
    .label = 比本规则包中其他最晚的版本（{ $previous }）晚 { $years } 年
    .help = 请核对年份：键入错误（把 `2018` 打成 `2081`）会使这个版本永远不会生效
plaus-mid-month = 参数 `{ $name }` 有一个自 { $date } 起施行的版本，生效日在月中
    .label = 当月第 { $day } 日
    .help = 政策按月计算，这个版本要到下个月才计入；如果它自 { $month } 起适用，请写 `effective = { $month }-01`
plaus-jump = 参数 `{ $name }` 自 { $date } 起的取值与上一版本相差悬殊
    .label = 之前为 { $old }，此后为 { $new }
    .help = 相差超过 { $factor } 倍：请核对数字（把年度金额填进按月的参数会大 12 倍）
