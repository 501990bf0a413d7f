'use strict'
// The two HTML pages SAMM writes - the profile report (samm report) and the
// benchmark chart (bench/run.js) - rendered from small fixtures in headless
// Chromium at a laptop's width: no script error, no text overflowing its
// box, no SVG label outside its drawing or over another label.
//
// Needs Debian's chromium (/usr/bin/chromium, or SAMM_CHROMIUM); skipped
// with a message when it is absent. SAMM_SCREENSHOTS=<dir> keeps a
// screenshot of each page there (docs/report.png, docs/bench-chart.png
// come from that).
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { readProfile } = require('../../profiler/profile-format')
const { renderHtml } = require('../../profiler/report')
const { renderChart } = require('../../bench/chart')

const FIXTURES = path.join(__dirname, '..', 'fixtures')
const CHROMIUM = process.env.SAMM_CHROMIUM || '/usr/bin/chromium'
const VIEWPORT = { width: 1366, height: 768 }
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']
const missing = fs.existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian: apt-get install chromium); the page checks need it`

function reportPage () {
  const table = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'report-table.json'), 'utf8'))
  const profile = readProfile(fs.readFileSync(path.join(FIXTURES, 'report.profile'), 'utf8'))
  return renderHtml('report.profile', table, profile)
}

function chartPage () {
  return renderChart(JSON.parse(fs.readFileSync(path.join(FIXTURES, 'bench-results.json'), 'utf8')))
}

// In the page: every problem found, as strings.
function layoutProblems () {
  const problems = []
  const describe = (el) => `<${el.tagName.toLowerCase()}> "${(el.textContent || '').trim().slice(0, 60)}"`
  if (document.documentElement.scrollWidth > window.innerWidth) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px wide in a ${window.innerWidth} px window`)
  }
  // HTML text whose content is wider than its box.
  for (const el of document.body.querySelectorAll('h1, h2, h3, p, td, th, figcaption, code, span, b')) {
    if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline') {
      problems.push(`${describe(el)} overflows its box: ${el.scrollWidth} > ${el.clientWidth} px`)
    }
    const r = el.getBoundingClientRect()
    if (r.right > document.documentElement.clientWidth + 1) problems.push(`${describe(el)} ends past the page's right edge (${Math.round(r.right)} px)`)
  }
  // SVG text: inside its drawing, and clear of every other label.
  for (const svg of document.querySelectorAll('svg')) {
    // The drawing's box: its viewBox, or its width and height without one.
    const vb = svg.viewBox.baseVal && svg.viewBox.baseVal.width > 0
      ? svg.viewBox.baseVal
      : { x: 0, y: 0, width: svg.width.baseVal.value, height: svg.height.baseVal.value }
    const texts = [...svg.querySelectorAll('text')].map((t) => ({ t, b: t.getBBox() }))
    for (const { t, b } of texts) {
      if (b.x < vb.x - 0.5 || b.y < vb.y - 0.5 || b.x + b.width > vb.x + vb.width + 0.5 || b.y + b.height > vb.y + vb.height + 0.5) {
        problems.push(`SVG ${describe(t)} lies outside the viewBox: x ${b.x.toFixed(1)}..${(b.x + b.width).toFixed(1)}, y ${b.y.toFixed(1)}..${(b.y + b.height).toFixed(1)} in ${vb.width}×${vb.height}`)
      }
    }
    for (let i = 0; i < texts.length; i++) {
      for (let j = i + 1; j < texts.length; j++) {
        const a = texts[i].b
        const c = texts[j].b
        if (a.x < c.x + c.width && c.x < a.x + a.width && a.y < c.y + c.height && c.y < a.y + a.height) {
          problems.push(`SVG ${describe(texts[i].t)} and ${describe(texts[j].t)} overlap`)
        }
      }
    }
  }
  return problems
}

let browser, tmp
before(async () => {
  if (missing) return
  const { chromium } = require('playwright-core')
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'samm-pages-'))
  // Without the sanitizer runtime the ASan run preloads into node: the
  // browser would inherit it, and it does not start with it.
  const env = { ...process.env }
  delete env.LD_PRELOAD
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, env })
})
after(async () => {
  if (browser) await browser.close()
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

async function check (html, name, screenshot = true) {
  const file = path.join(tmp, `${name}.html`)
  fs.writeFileSync(file, html)
  const page = await browser.newPage({ viewport: VIEWPORT })
  const errors = []
  page.on('pageerror', (err) => errors.push(`script error: ${err.message}`))
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(`console error: ${msg.text()}`) })
  await page.goto(`file://${file}`)
  await page.evaluate(() => document.fonts.ready)
  const problems = await page.evaluate(layoutProblems)
  if (screenshot && process.env.SAMM_SCREENSHOTS) {
    fs.mkdirSync(process.env.SAMM_SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: path.join(process.env.SAMM_SCREENSHOTS, `${name}.png`), fullPage: true })
  }
  await page.close()
  return [...errors, ...problems]
}

test('the profile report renders at 1366×768 without script errors or overflowing text', { skip: missing }, async () => {
  assert.deepEqual(await check(reportPage(), 'report'), [])
})

test('the benchmark chart renders at 1366×768 without script errors or overflowing text', { skip: missing }, async () => {
  assert.deepEqual(await check(chartPage(), 'bench-chart'), [])
})

test('the checks find what they look for: a long unbroken cell, labels on top of each other, a label outside, a script error', { skip: missing }, async () => {
  const html = '<!doctype html><html><body style="margin:0"><table style="width:300px;table-layout:fixed"><tr><td style="overflow:hidden">' +
    'x'.repeat(400) + '</td></tr></table><svg viewBox="0 0 200 50" width="200" height="50"><text x="10" y="20">1 s</text><text x="12" y="22">1 min</text>' +
    '<text x="190" y="40">1 h</text></svg><script>undefinedFunction()</script></body></html>'
  const problems = await check(html, 'broken', false)
  assert.ok(problems.some((p) => p.startsWith('script error')), problems.join('\n'))
  assert.ok(problems.some((p) => /overflows its box/.test(p)), problems.join('\n'))
  assert.ok(problems.some((p) => /"1 s" and .*"1 min" overlap/.test(p)), problems.join('\n'))
  assert.ok(problems.some((p) => /"1 h" lies outside the viewBox/.test(p)), problems.join('\n'))
})

test('report labels: a censored centroid is "still alive", sizes are human, the open top class is "≥ 64 KiB"', () => {
  const html = reportPage()
  const has = (text) => assert.ok(html.includes(text), `the report has ${text}`)
  has('still alive <b')
  has('end of profile')
  assert.ok(!/\d{6,}\.\d h/.test(html), 'no huge lifetime')
  has('<td class="size">&lt; 256 B</td>')
  has('<td class="size">256 B–4 KiB</td>')
  has('<td class="size">4 KiB–64 KiB</td>')
  has('<td class="size">≥ 64 KiB</td>')
  has('by size: &lt; 64 KiB short, ≥ 64 KiB medium')
  assert.ok(!/2\^\d/.test(html), 'no powers of two')
  // Each unmanaged figure from one source: the heap profiler's line is in a
  // table of its own, not as "0 bytes" beside its sampled bytes.
  assert.ok(/<h2>Other ArrayBuffer memory alive at exit<\/h2>.*typed-rows\.js:10<\/code><\/td><td class="num">54424<\/td>/s.test(html), 'the heap profiler\'s line in its own table')
  assert.ok(!/typed-rows\.js:10<\/code><\/td><td class="num">0</.test(html), 'not as 0 bytes allocated')
})

test('the chart has a throughput figure and labelled axes', () => {
  const html = chartPage()
  for (const text of ['throughput, requests/s', 'RSS, MiB', 'seconds into the measured run', '>1.35×<']) {
    assert.ok(html.includes(text), `the chart has ${text}`) // 1.35×: samm over the baseline, fixture's small shape
  }
})
