"""Adapters from the real kiosk components (card layer, ballot box) to the ports in kiosk.ports."""
