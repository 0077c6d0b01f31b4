// APIv2 interop with an independent client: the wechatpay-axios-plugin (the system wxpay grew
// from), pinned in package.json. Run by .ci/run after `npm ci` here, never by `cargo test`:
//
//   WXPAY_SANDBOX_BIN=target/debug/wxpay-sandbox WXPAY_BIN=target/debug/wxpay node tests/interop/v2.mjs
//
// 1. Starts the sandbox binary on loopback (TEST APIv2 key, HTTPS listener with the TEST CA).
// 2. The plugin's own v2 client (`wxpay.v2.…`) signs requests, MD5 and HMAC-SHA256, and the
//    sandbox must accept them: micropay, unifiedorder → orderquery, sendredpack over mTLS with
//    the TEST client certificate → gethbinfo, getpublickey → pay_bank with the card number and
//    name encrypted by the plugin's RSA-OAEP, a refund over mTLS whose req_info notification the
//    plugin decrypts. The plugin verifies every signed answer with its own rule on the way in.
// 3. A raw sandbox answer passes the plugin's verifier, and fails it once a field is changed.
//    A request signed with another key is refused by the sandbox.
// 4. Our client's signing: `wxpay call … --dry-run` signs a request in each type; the plugin's
//    rule must find its sign right (and wrong once a field is changed). `wxpay verify
//    v2-notification` must accept the refund notification the sandbox sent.
//
// Exits non-zero with a message naming the disagreement.

import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { Wechatpay, Hash, Rsa, Transformer, Aes: { AesEcb } } = require('wechatpay-axios-plugin');

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', '..', 'wxpay-sandbox', 'tests', 'fixtures', 'v2');
const KEY = 'TESTapiv2key0123456789ABCDEFGHIJ';
const OTHER_KEY = 'TESTotherkey0123456789ABCDEFGHIJ';
const MCHID = '1230000109';
const APPID = 'wxd678efh567hg6787';
const OPENID = 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o';

const sandboxBin = process.env.WXPAY_SANDBOX_BIN;
const wxpayBin = process.env.WXPAY_BIN;
if (!sandboxBin || !wxpayBin) {
  console.error('v2 interop: set WXPAY_SANDBOX_BIN and WXPAY_BIN to the built binaries');
  process.exit(2);
}

let checks = 0;
function check(condition, what, detail) {
  if (!condition) {
    throw new Error(`DISAGREEMENT: ${what}${detail === undefined ? '' : `\n${typeof detail === 'string' ? detail : JSON.stringify(detail, null, 2)}`}`);
  }
  checks += 1;
  console.log(`ok  ${what}`);
}

/** Starts the sandbox binary; resolves with its URLs and settings once it prints them. */
function startSandbox() {
  const child = spawn(sandboxBin, [
    '--listen', '127.0.0.1:0',
    '--apiv2-key', KEY,
    '--https-ca', join(fixtures, 'TEST-ca-cert.pem'),
    '--https-cert', join(fixtures, 'TEST-server-cert.pem'),
    '--https-key', join(fixtures, 'TEST-server-key.pem'),
  ], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the sandbox exited (${code}) before it listened:\n${out}`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (!out.includes('\ndashboard: ')) return;
      const env = Object.fromEntries([...out.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
      const http = /^listening on (\S+)$/m.exec(out)?.[1];
      const https = /^https: (\S+)$/m.exec(out)?.[1];
      child.removeAllListeners('exit');
      if (!http || !https) { reject(new Error(`no listening/https lines in:\n${out}`)); return; }
      resolve({ child, http, https, env });
    });
  });
}

/** The plugin's verification rule for a v2 document: its sign type told by the sign's length. */
function pluginSignOk(doc, key = KEY) {
  const type = doc.sign && doc.sign.length === 64 ? Hash.ALGO_HMAC_SHA256 : Hash.ALGO_MD5;
  return Hash.equals(Hash.sign(type, doc, Hash.keyObjectFrom(key)), doc.sign);
}

/** The plugin's own answer verifier (return_code, result_code, then sign unless unsigned). */
function pluginVerifier(path, doc) {
  const verifier = new Transformer(MCHID, Hash.keyObjectFrom(KEY)).verifier;
  const result = verifier.call({ url: path }, doc);
  return result === doc ? null : result;
}

/** A request signed by the plugin's signer, posted as the plugin writes it; the raw answer. */
async function rawPost(base, path, data, key = KEY) {
  const signer = new Transformer(MCHID, Hash.keyObjectFrom(key)).signer;
  const signed = signer.call({ method: 'POST', url: path }, { ...data });
  const answer = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body: Transformer.toXml(signed),
  });
  return answer.text();
}

/** `wxpay --json call POST path -f … --dry-run` with the sandbox's settings (its merchant, as
 * the client is configured): the signed XML. */
function ourSignedXml(sandbox, path, fields, signType) {
  const args = ['--json', 'call', 'POST', path, '--dry-run', '--sign-type', signType];
  for (const [name, value] of Object.entries(fields)) args.push('--field', `${name}=${value}`);
  const out = execFileSync(wxpayBin, args, {
    env: { ...process.env, ...sandbox.env, WXPAY_APIV2_KEY: KEY, WXPAY_BASE_URL: sandbox.http },
    encoding: 'utf8',
  });
  return JSON.parse(out).body;
}

/** A one-shot notification receiver on loopback: resolves with the first body it gets. */
function notificationReceiver() {
  let deliver;
  const received = new Promise((resolve) => { deliver = resolve; });
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end('<xml><return_code>SUCCESS</return_code></xml>');
      deliver(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, received, url: `http://127.0.0.1:${server.address().port}/notify` }));
  });
}

async function main() {
  const sandbox = await startSandbox();
  const scratch = mkdtempSync(join(tmpdir(), 'wxpay-v2-interop-'));
  try {
    check(sandbox.env.WXPAY_APIV2_KEY === KEY, 'the sandbox binary took --apiv2-key');
    const pubId = sandbox.env.WXPAY_PLATFORM_PUBLIC_KEY_ID;
    const wxpay = new Wechatpay({
      mchid: MCHID,
      serial: sandbox.env.WXPAY_MERCHANT_SERIAL,
      privateKey: readFileSync(sandbox.env.WXPAY_MERCHANT_KEY),
      certs: { [pubId]: readFileSync(sandbox.env.WXPAY_PLATFORM_PUBLIC_KEY) },
      secret: KEY,
      // The TEST client certificate, and the TEST CA the sandbox's HTTPS server chains to.
      merchant: {
        cert: readFileSync(join(fixtures, 'TEST-apiclient-cert.pem')),
        key: readFileSync(join(fixtures, 'TEST-apiclient-key.pem')),
        ca: readFileSync(join(fixtures, 'TEST-ca-cert.pem')),
      },
      baseURL: `${sandbox.http}/`,
    });
    const mtls = { baseURL: `${sandbox.https}/`, security: true };

    // The plugin's signing, accepted; its verifier ran on every answer below (a bad sign throws).
    const micropay = {
      appid: APPID, mch_id: MCHID, body: 'TEST', total_fee: '1',
      spbill_create_ip: '127.0.0.1', auth_code: '120061098828009406',
    };
    for (const signType of [Hash.ALGO_MD5, Hash.ALGO_HMAC_SHA256]) {
      const no = `TESTnode${signType === Hash.ALGO_MD5 ? 'md5' : 'hmac'}${Date.now()}`;
      const { data } = await wxpay.v2.pay.micropay.post({ ...micropay, out_trade_no: no, sign_type: signType });
      check(data.return_code === 'SUCCESS' && data.result_code === 'SUCCESS' && data.out_trade_no === no,
        `micropay signed by the plugin (${signType}) accepted, answer verified by the plugin`, data);
      check(data.sign.length === (signType === Hash.ALGO_MD5 ? 32 : 64),
        `micropay answered in the request's sign type (${signType})`, data.sign);
    }

    const orderNo = `TESTnodeorder${Date.now()}`;
    const { data: ordered } = await wxpay.v2.pay.unifiedorder.post({
      appid: APPID, mch_id: MCHID, body: 'TEST', out_trade_no: orderNo, total_fee: '101',
      spbill_create_ip: '127.0.0.1', notify_url: 'http://127.0.0.1:9/notify', trade_type: 'NATIVE',
      sign_type: Hash.ALGO_HMAC_SHA256,
    });
    check(ordered.result_code === 'SUCCESS' && ordered.prepay_id && ordered.code_url,
      'unifiedorder (HMAC-SHA256) accepted, answer verified by the plugin', ordered);
    const { data: queried } = await wxpay.v2.pay.orderquery.post({ appid: APPID, mch_id: MCHID, out_trade_no: orderNo });
    check(queried.result_code === 'SUCCESS' && queried.trade_state === 'NOTPAY' && queried.total_fee === '101',
      'orderquery (MD5) finds the order, answer verified by the plugin', queried);

    const billno = `TESTnodehb${Date.now()}`.slice(0, 28);
    const redPacket = {
      mch_billno: billno, mch_id: MCHID, wxappid: APPID, send_name: 'TEST 商户', re_openid: OPENID,
      total_amount: '100', total_num: '1', wishing: '恭喜发财', client_ip: '127.0.0.1', act_name: 'TEST', remark: 'TEST',
    };
    const { data: sent } = await wxpay.v2.mmpaymkttransfers.sendredpack.post(redPacket, mtls);
    check(sent.result_code === 'SUCCESS' && sent.send_listid, 'sendredpack over mTLS with the TEST client certificate accepted', sent);
    const { data: hb } = await wxpay.v2.mmpaymkttransfers.gethbinfo.post(
      { mch_billno: billno, mch_id: MCHID, appid: APPID, bill_type: 'MCHT' }, mtls);
    check(hb.result_code === 'SUCCESS' && hb.mch_billno === billno, 'gethbinfo over mTLS finds the red packet', hb);
    let refused;
    try {
      await wxpay.v2.mmpaymkttransfers.sendredpack.post({ ...redPacket, mch_billno: `${billno}x`.slice(0, 28) });
    } catch (error) { refused = error; }
    check(refused && /return_code/.test(refused.message), 'sendredpack without the client certificate refused', refused?.message);

    // A bank-card payout: the plugin fetches getpublickey's key and encrypts the card number
    // and name by its own rule (RSA-OAEP); the sandbox pays only when both decrypt.
    const { data: publicKey } = await wxpay.v2.risk.getpublickey.post(
      { mch_id: MCHID, sign_type: Hash.ALGO_HMAC_SHA256 }, mtls);
    check(publicKey.result_code === 'SUCCESS' && /BEGIN RSA PUBLIC KEY/.test(publicKey.pub_key || ''),
      'getpublickey over mTLS answers a PKCS#1 RSA key', publicKey);
    const bankKey = Rsa.from(publicKey.pub_key, Rsa.KEY_TYPE_PUBLIC);
    const payout = {
      mch_id: MCHID, partner_trade_no: `TESTnodebank${Date.now()}`, bank_code: '1002', amount: '100',
      enc_bank_no: Rsa.encrypt('6222020200000000000', bankKey), enc_true_name: Rsa.encrypt('TEST 张三', bankKey),
    };
    const { data: paid } = await wxpay.v2.mmpaysptrans.pay_bank.post(payout, mtls);
    check(paid.result_code === 'SUCCESS' && paid.partner_trade_no === payout.partner_trade_no,
      "pay_bank with the plugin's RSA-OAEP encryption of card number and name is paid", paid);
    let unpaid;
    try {
      await wxpay.v2.mmpaysptrans.pay_bank.post(
        { ...payout, partner_trade_no: `${payout.partner_trade_no}x`, enc_bank_no: '6222020200000000000' }, mtls);
    } catch (error) { unpaid = error; }
    check(unpaid && /result_code/.test(unpaid.message), 'pay_bank with a card number sent in clear is refused', unpaid?.message);

    // A refund over mTLS: its notification's req_info decrypts by the plugin's rule.
    const receiver = await notificationReceiver();
    const paidNo = `TESTnodepaid${Date.now()}`;
    await wxpay.v2.pay.micropay.post({ ...micropay, total_fee: '300', out_trade_no: paidNo });
    const { data: refunded } = await wxpay.v2.secapi.pay.refund.post({
      appid: APPID, mch_id: MCHID, out_trade_no: paidNo, out_refund_no: `${paidNo}r`,
      total_fee: '300', refund_fee: '100', notify_url: receiver.url, sign_type: Hash.ALGO_HMAC_SHA256,
    }, mtls);
    check(refunded.result_code === 'SUCCESS' && refunded.refund_fee === '100',
      'refund over mTLS (HMAC-SHA256) accepted, answer verified by the plugin', refunded);
    const notificationXml = await Promise.race([
      receiver.received,
      new Promise((_, reject) => setTimeout(() => reject(new Error('no refund notification within 20 s')), 20000)),
    ]);
    receiver.server.close();
    const envelope = Transformer.toObject(notificationXml);
    const refund = Transformer.toObject(AesEcb.decrypt(envelope.req_info, Hash.md5(Hash.keyObjectFrom(KEY))));
    check(refund.out_refund_no === `${paidNo}r` && refund.refund_fee === '100' && refund.refund_status === 'SUCCESS',
      "the refund notification's req_info decrypts by the plugin's rule", refund);
    const notificationFile = join(scratch, 'refund.xml');
    writeFileSync(notificationFile, notificationXml);
    const ourView = JSON.parse(execFileSync(wxpayBin, ['--json', 'verify', 'v2-notification', '--body', notificationFile], {
      env: { ...process.env, WXPAY_APIV2_KEY: KEY }, encoding: 'utf8',
    }));
    check(ourView.kind === 'refund' && ourView.fields.out_refund_no === `${paidNo}r` && ourView.fields.refund_fee === '100',
      'wxpay verify v2-notification reads the same refund', ourView);

    // Raw answers: the plugin's verifier accepts them, and refuses them once tampered with.
    for (const signType of [Hash.ALGO_MD5, Hash.ALGO_HMAC_SHA256]) {
      const text = await rawPost(sandbox.http, '/pay/orderquery', { appid: APPID, mch_id: MCHID, out_trade_no: orderNo, sign_type: signType });
      const answer = Transformer.toObject(text);
      check(pluginVerifier('/pay/orderquery', answer) === null, `a raw orderquery answer (${signType}) passes the plugin's verifier`, text);
      const tampered = { ...answer, total_fee: '1' };
      const error = pluginVerifier('/pay/orderquery', tampered);
      check(error && error.code === 'EV2_RES_SIGNATURE_NOT_EQUAL', `the same answer with total_fee changed fails the plugin's verifier (${signType})`, error?.message);
    }
    const wrongKey = Transformer.toObject(await rawPost(sandbox.http, '/pay/orderquery', { appid: APPID, mch_id: MCHID, out_trade_no: orderNo }, OTHER_KEY));
    check(wrongKey.return_code === 'FAIL' && !wrongKey.sign, 'a request signed with another key is refused (return_code FAIL, unsigned)', wrongKey);

    // Our client's signing, checked by the plugin's rule.
    for (const signType of ['MD5', 'HMAC-SHA256']) {
      const fields = { appid: APPID, mch_id: MCHID, out_trade_no: orderNo, body: 'TEST <&> 公仔', detail: '{"goods":[1]}' };
      const doc = Transformer.toObject(ourSignedXml(sandbox, '/pay/orderquery', fields, signType));
      check(doc.sign_type === (signType === 'MD5' ? undefined : signType) && doc.nonce_str && doc.body === fields.body,
        `wxpay's ${signType} request reads back as the plugin parses XML`, doc);
      check(pluginSignOk(doc), `wxpay's ${signType} sign is right by the plugin's rule`, doc);
      check(!pluginSignOk({ ...doc, out_trade_no: `${orderNo}x` }), `… and wrong once a field changes (${signType})`);
      check(!pluginSignOk(doc, OTHER_KEY), `… and wrong under another key (${signType})`);
    }
  } finally {
    sandbox.child.kill('SIGTERM');
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`v2 interop: ${checks} checks agree (wechatpay-axios-plugin ${require('wechatpay-axios-plugin/package.json').version})`);
}

main().catch((error) => {
  console.error(`v2 interop FAILED: ${error.message}`);
  process.exit(1);
});
