dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "common.lua")
local paths = {}
for id in string.gmatch(os.getenv("BENCH_IDS"), "%d+") do
  paths[#paths + 1] = "/clients/" .. id .. "/"
end
request = rotate(paths)
