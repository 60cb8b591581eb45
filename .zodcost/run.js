const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
let t = cpu();
const m = require('./schemas.js');
const out = { init: cpu() - t };
for (const [k, f] of Object.entries(m.steps)) { t = cpu(); f(); out[k] = cpu() - t; }
out.total = Object.values(out).reduce((a, b) => a + b, 0);
console.log(JSON.stringify(out));
