dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
-- What a user types: 3 to 5 letters of names, cities, e-mails (Cyrillic and Latin).
local prefixes = { "Ива", "Иван", "Петр", "Смир", "Мос", "Каза", "ООО", "Лавк",
                   "Tech", "Smi", "Joh", "mail", "info", "Нов", "Серг", "Ольг",
                   "Berl", "Glob", "Kuzn", "Вол" }
local paths = {}
for _, p in ipairs(prefixes) do
  local escaped = p:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end)
  paths[#paths + 1] = "/search/?q=" .. escaped
end
request = rotate(paths, { ["HX-Request"] = "true" })
