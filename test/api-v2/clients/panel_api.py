"""The panels' published Python example client, as resellers copy it into their scripts.

`Api` is the urllib version (form body from urllib.parse.urlencode, key first); `RequestsApi` sends
the same dict with requests' `data=`. Run by test/api-v2/clients.test.ts:

    python3 panel_api.py <api url> <key> <service id> <link> <second link>

prints one JSON object with every answer, in order.
"""
import json
import sys
import urllib.parse
import urllib.request


class Api:
    def __init__(self, api_url, api_key):
        self.api_url = api_url
        self.api_key = api_key

    def order(self, data):  # add order
        post = {'key': self.api_key, 'action': 'add'}
        post.update(data)
        return json.loads(self.connect(post))

    def status(self, order_id):  # get order status
        return json.loads(self.connect({'key': self.api_key, 'action': 'status', 'order': order_id}))

    def multi_status(self, order_ids):  # get order status
        return json.loads(self.connect({'key': self.api_key, 'action': 'status', 'orders': ','.join(map(str, order_ids))}))

    def services(self):  # get services
        return json.loads(self.connect({'key': self.api_key, 'action': 'services'}))

    def refill(self, order_id):  # refill order
        return json.loads(self.connect({'key': self.api_key, 'action': 'refill', 'order': order_id}))

    def multi_refill(self, order_ids):  # refill orders
        return json.loads(self.connect({'key': self.api_key, 'action': 'refill', 'orders': ','.join(map(str, order_ids))}))

    def refill_status(self, refill_id):  # get refill status
        return json.loads(self.connect({'key': self.api_key, 'action': 'refill_status', 'refill': refill_id}))

    def multi_refill_status(self, refill_ids):  # get refill statuses
        return json.loads(self.connect({'key': self.api_key, 'action': 'refill_status', 'refills': ','.join(map(str, refill_ids))}))

    def cancel(self, order_ids):  # cancel orders
        return json.loads(self.connect({'key': self.api_key, 'action': 'cancel', 'orders': ','.join(map(str, order_ids))}))

    def balance(self):  # get balance
        return json.loads(self.connect({'key': self.api_key, 'action': 'balance'}))

    def connect(self, data):
        parsed = urllib.parse.urlencode(data).encode('utf-8')
        req = urllib.request.Request(self.api_url, data=parsed, headers={'User-Agent': 'Mozilla/4.0 (compatible; MSIE 5.01; Windows NT 5.0)'})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.read()


class RequestsApi(Api):
    def connect(self, data):
        import requests
        return requests.post(self.api_url, data=data, timeout=60).content


def main():
    url, key, service, link, link2 = sys.argv[1:6]
    api = Api(url, key)
    out = {}
    out['services'] = api.services()
    out['balance'] = api.balance()
    out['order'] = api.order({'service': int(service), 'link': link, 'quantity': 100})
    order = out['order'].get('order')
    out['same_link'] = api.order({'service': int(service), 'link': link, 'quantity': 100})
    out['dripfeed'] = api.order({'service': int(service), 'link': link2, 'quantity': 100, 'runs': 2, 'interval': 5})
    out['status'] = api.status(order)
    out['multi_status'] = api.multi_status([order, 99999999])
    out['refill'] = api.refill(order)
    out['multi_refill'] = api.multi_refill([order, 99999999])
    out['refill_status'] = api.refill_status(1)
    out['multi_refill_status'] = api.multi_refill_status([1, 2])
    out['cancel'] = api.cancel([order, 99999999])
    out['status_after_cancel'] = api.status(order)
    out['balance_after'] = api.balance()
    with_requests = RequestsApi(url, key)
    out['requests_order'] = with_requests.order({'service': service, 'link': link2, 'quantity': '200'})
    out['requests_status'] = with_requests.multi_status([out['requests_order'].get('order')])
    out['bad_key'] = Api(url, 'nope').balance()
    out['api_quirk'] = json.loads(api.connect({'api': key, 'action': 'balance'}))
    print(json.dumps(out))


if __name__ == '__main__':
    main()
