-- Issue 14 follow-up: the engine's audit_log events that the charge-table
-- triggers of 0007 cannot see (a review decided and by whom, a late
-- settlement, a superseded charge, a late refund failed or kept on the
-- balance) are copied onto the staff audit trail as they are written.
-- Events the 0007 triggers already put on the trail (charge.review,
-- charge.dishonour, charge.chargeback, charge.refund) and the mirror's
-- events are left out, so nothing shows twice.
--
-- audit_log times are RFC 3339 with nanoseconds; the trail's are fixed-width
-- milliseconds (store.TimeFormat) so they sort as text: strftime converts.
-- Amounts come from the attempt row (minor units), not from the event's
-- decimal text. The trail stays append-only: this only inserts.

CREATE TRIGGER audit_trail_from_audit_log AFTER INSERT ON audit_log
WHEN NEW.event LIKE 'charge.%'
 AND NEW.event NOT IN ('charge.review', 'charge.dishonour', 'charge.chargeback', 'charge.refund')
BEGIN
    INSERT INTO audit_trail (at, actor, kind, customer_id, subject, subject_id, amount, detail)
    SELECT strftime('%Y-%m-%dT%H:%M:%fZ', NEW.at),
           COALESCE(NULLIF(json_extract(NEW.fields_json, '$.by'), ''),
                    CASE WHEN NEW.event = 'charge.late_settlement' THEN 'gateway' ELSE 'system' END),
           NEW.event,
           COALESCE(json_extract(NEW.fields_json, '$.customer_id'), a.customer_id, 0),
           'attempt',
           COALESCE(json_extract(NEW.fields_json, '$.attempt_id'), 0),
           COALESCE(CASE WHEN NEW.event IN ('charge.late_settlement_kept', 'charge.late_settlement_refund_failed')
                         THEN a.amount - a.refunded ELSE a.amount END, 0),
           COALESCE(a.kind || ' ' || a.item_number || ' ', '')
           || COALESCE(json_extract(NEW.fields_json, '$.reference'), '') || ': '
           || CASE NEW.event
                WHEN 'charge.review_decided' THEN
                    CASE json_extract(NEW.fields_json, '$.decision')
                        WHEN 'charged' THEN 'decided: it was charged at the gateway (written to Splynx)'
                        WHEN 'not_charged' THEN 'decided: not charged at the gateway (the document can be charged again)'
                        ELSE 'decided: ' || COALESCE(json_extract(NEW.fields_json, '$.decision'), '?') END
                    || ' — was ' || COALESCE(json_extract(NEW.fields_json, '$.was'), '?')
                WHEN 'charge.late_settlement' THEN
                    'the gateway took it (' || COALESCE(json_extract(NEW.fields_json, '$.gateway_status'), '?')
                    || ') after we held it as ' || COALESCE(json_extract(NEW.fields_json, '$.was'), '?')
                    || CASE WHEN COALESCE(json_extract(NEW.fields_json, '$.was_code'), '') <> ''
                            THEN ' ' || json_extract(NEW.fields_json, '$.was_code') ELSE '' END
                    || CASE WHEN COALESCE(json_extract(NEW.fields_json, '$.superseded_by'), '') <> ''
                            THEN '; the document was already paid by ' || json_extract(NEW.fields_json, '$.superseded_by')
                            ELSE '; recorded and followed to settlement' END
                WHEN 'charge.superseded' THEN
                    'the document was already paid by ' || COALESCE(json_extract(NEW.fields_json, '$.paid_by'), '?')
                    || CASE json_extract(NEW.fields_json, '$.late_settlement')
                           WHEN 'refund' THEN '; this money is refunded'
                           ELSE '; this money goes to the customer''s balance' END
                WHEN 'charge.late_settlement_refund_failed' THEN
                    'the refund owed for a late settlement failed ('
                    || COALESCE(json_extract(NEW.fields_json, '$.error'), 'no reason') || '); it is tried again'
                WHEN 'charge.late_settlement_kept' THEN
                    'the late settlement is kept on the customer''s balance; no refund is owed any more'
                ELSE replace(substr(NEW.event, 8), '_', ' ')
              END
    FROM (SELECT 1) LEFT JOIN charge_attempts a ON a.id = json_extract(NEW.fields_json, '$.attempt_id');
END;
