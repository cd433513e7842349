package divisions

// formerNames are names still written on household registers for divisions renamed or
// merged since they were registered, keyed by the code the division has in the 2023
// table. A former name that differs only in its suffix (文登市 for 文登区, 即墨市 for
// 即墨区) needs no entry: the resolver reads the suffix loosely. Each entry names the
// change, as announced by the Ministry of Civil Affairs (民政部 行政区划变更).
var formerNames = map[string][]string{
	"4206":   {"襄樊"}, // 2010: 襄樊市 renamed 襄阳市
	"5308":   {"思茅"}, // 2007: 思茅市 renamed 普洱市
	"340181": {"居巢"}, // 2011: 巢湖 prefecture abolished; 居巢区 became the county-level 巢湖市
	"370116": {"莱城"}, // 2019: 莱芜市 merged into 济南; its 莱城区 became 莱芜区
	"370614": {"长岛"}, // 2020: 蓬莱市 and 长岛县 merged into 蓬莱区
	"371403": {"陵县"}, // 2014: 陵县 became 陵城区
}
