-- Credits spent by granted deductions are usage of their own meter (quantity in the
-- organization's unit: credits, or USD for BYOM), written with the deduction.
INSERT INTO meters (meter, unit, description) VALUES
    ('credits', 'credits', 'Credits spent by granted deductions (USD for BYOM organizations)')
ON CONFLICT (meter) DO NOTHING;
